import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { WebSocket, WebSocketServer } from 'ws';

import { textFrame } from '../../src/live/websocket-frame';

/** Every header size: 7-bit length, 16-bit (126…65535), 64-bit (65536 and over). */
const LENGTHS = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000];

describe('textFrame', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    server = createServer();
    server.on('upgrade', (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, () => {
        // Written straight to the socket, as GraphqlWsServer does: the frames must stand on their own.
        for (const length of LENGTHS) socket.write(textFrame(Buffer.from('{"n":'), Buffer.from(String(length)), Buffer.from(',"s":"'), Buffer.alloc(length, 'x'), Buffer.from('"}')));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('is read by the ws client as the text message of its joined parts, at every header size', async () => {
    const client = new WebSocket(url);
    const received: { text: string; isBinary: boolean }[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('message', (data: Buffer, isBinary) => {
        received.push({ text: data.toString('utf8'), isBinary });
        if (received.length === LENGTHS.length) resolve();
      });
      client.on('error', reject);
      client.on('close', (code) => reject(new Error(`closed with ${code}`)));
    });
    client.terminate();
    expect(received.map(({ isBinary }) => isBinary)).toEqual(LENGTHS.map(() => false));
    expect(received.map(({ text }) => JSON.parse(text) as { n: number; s: string })).toEqual(LENGTHS.map((length) => ({ n: length, s: 'x'.repeat(length) })));
  });
});
