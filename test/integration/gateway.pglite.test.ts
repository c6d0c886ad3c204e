import { describeGatewayBehaviour } from '../helpers/gateway-behaviour';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway';

describe('the gateway on its embedded defaults (PGlite, simulated market feed)', () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway();
  }, 60_000);

  afterAll(() => gateway.close());

  describeGatewayBehaviour(() => gateway);
});
