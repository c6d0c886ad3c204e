import { removeTemplateRoot } from './embedded-template';

/** jest.config.js globalTeardown: see embedded-template.ts. */
export default removeTemplateRoot;
