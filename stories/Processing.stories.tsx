import type { Meta, StoryObj } from '@storybook/react-vite';
import { ProcessingDemo } from './demo/ProcessingDemo.js';

/**
 * Processing, live: a worker in this tab runs the jobs of a kind with required processors
 * (`sha256`, a slow one, an optional thumbnail) on the page's PGlite, and the upload waits in
 * `processing` until the database completes or fails it. Try a checked PDF, then start over and
 * send one whose declared checksum is wrong.
 */
const meta = {
  title: 'Demo/Processing',
  component: ProcessingDemo,
  parameters: { layout: 'fullscreen' },
} satisfies Meta<typeof ProcessingDemo>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Live: Story = {};
