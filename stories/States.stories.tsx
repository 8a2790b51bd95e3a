import type { Meta, StoryObj } from '@storybook/react-vite';
import { UploadDemo } from './demo/UploadDemo.js';

/**
 * Every terminal and error state, each reached by a script through the same actions and fault
 * controls as the live demo, against the real SQL in PGlite.
 */
const meta = {
  title: 'Demo/States',
  component: UploadDemo,
  parameters: { layout: 'fullscreen' },
  args: { bandwidth: 2_000_000, showDiagrams: true },
} satisfies Meta<typeof UploadDemo>;

export default meta;
type Story = StoryObj<typeof meta>;

/** `completed`: entered only on finalize_upload's answer. */
export const Completed: Story = { args: { scenario: 'completed' } };
/** `failed` (cancelled): the user cancelled mid-upload; Retry upload starts a new attempt. */
export const Cancelled: Story = { args: { scenario: 'cancelled', bandwidth: 100_000 } };
/** `failed` + UL006: no attempts left; the entity is done for. */
export const AttemptsExhausted: Story = { args: { scenario: 'attemptsExhausted', bandwidth: 100_000 } };
/** `uploading` + UL002: an object is one byte short; finalize refuses. Replace the file, then Finalize. */
export const RequirementsNotMet: Story = { args: { scenario: 'requirementsNotMet' } };
/** `draft` deleted by the sweeper + UL003: begin_upload finds nothing. Start over. */
export const DraftExpired: Story = { args: { scenario: 'draftExpired' } };
/** UL004 before a byte is sent: a text file in the photos slot. */
export const InvalidFile: Story = { args: { scenario: 'invalidFile' } };
/** `suspended`: the connection stayed down longer than the retries; Reconnect, then Resume. */
export const ConnectionLost: Story = { args: { scenario: 'connectionLost', bandwidth: 100_000 } };
/** A file removed while `start_upload` is on its way: deferred, never dropped; it completes without it. */
export const RemoveWhileStarting: Story = { args: { scenario: 'removeWhileStarting' } };
