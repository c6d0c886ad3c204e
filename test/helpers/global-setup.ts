import { createTemplateRoot } from './embedded-template';

/** jest.config.js globalSetup: see embedded-template.ts. */
export default createTemplateRoot;
