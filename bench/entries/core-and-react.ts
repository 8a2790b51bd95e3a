// What an app importing both `upload-lifecycle` and `upload-lifecycle/react` ships.
export * from '../../src/index.js';
export * from '../../src/react/index.js';
