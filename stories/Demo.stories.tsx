import type { Meta, StoryObj } from '@storybook/react-vite';
import { UploadDemo } from './demo/UploadDemo.js';

/**
 * The live demo: the real migrations in PGlite in this tab, `useUploadLifecycle` on
 * `createPgliteBackend`, a simulated network, and the database as it changes.
 */
const meta = {
  title: 'Demo/Live upload',
  component: UploadDemo,
  parameters: { layout: 'fullscreen' },
  args: { bandwidth: 400_000, progressBurst: 1, showDiagrams: true, inspect: false },
  argTypes: {
    bandwidth: { control: { type: 'select' }, options: [100_000, 400_000, 2_000_000] },
    progressBurst: { control: { type: 'select' }, options: [1, 10, 100] },
    scenario: { control: false },
    inspect: { control: 'boolean', description: "Open Stately's inspector on the live actors" },
    inspectorUrl: { control: false },
  },
} satisfies Meta<typeof UploadDemo>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Add files, create the draft, upload; inject failures from the panel and watch the database. */
export const Live: Story = {};

/**
 * The same demo with Stately's inspector (`@statelyai/inspect`) open in a new window: the upload
 * actor and its transfer children, live. Or flip the `inspect` toggle on any demo story.
 */
export const InStately: Story = { args: { inspect: true } };

/**
 * 100 progress events every 50 ms (thousands per file): the render meter shows the progress
 * component still renders at most once per animation frame.
 */
export const ProgressBurst: Story = { args: { progressBurst: 100 } };
