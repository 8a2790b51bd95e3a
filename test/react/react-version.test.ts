/**
 * Which React the React tests ran on. `npm run test:react18` runs them in a copy whose react and
 * react-dom are 18 and sets EXPECT_REACT_MAJOR=18, so a copy that silently kept React 19 fails.
 */
import { version as reactVersion } from 'react';
import { version as domVersion } from 'react-dom';
import { expect, it } from 'vitest';

it('runs on the React the run asked for', () => {
  console.log(`React ${reactVersion}, react-dom ${domVersion}`);
  const major = process.env.EXPECT_REACT_MAJOR ?? '19';
  expect(reactVersion.split('.')[0]).toBe(major);
  expect(domVersion).toBe(reactVersion);
});
