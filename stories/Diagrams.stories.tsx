import type { Meta, StoryObj } from '@storybook/react-vite';
import { lifecycleMachine } from '../src/machines/lifecycle.js';
import { createUploadMachine } from '../src/machines/upload.js';
import { UPLOAD_PHASES } from '../src/machines/upload-selectors.js';
import { MachineDiagram } from './diagram/MachineDiagram.js';

/**
 * Both machines drawn from their own definitions (`toMermaid`), never by hand. Pick a state to
 * highlight; the live demo highlights the current ones as it runs.
 */
const meta = {
  title: 'Diagrams/Machines',
  component: MachineDiagram,
} satisfies Meta<typeof MachineDiagram>;

export default meta;
type Story = StoryObj<typeof meta>;

export const Lifecycle: Story = {
  args: { machine: lifecycleMachine, title: 'Lifecycle: the database statuses', active: ['uploading'] },
  argTypes: {
    machine: { control: false },
    active: { control: { type: 'check' }, options: Object.keys(lifecycleMachine.states) },
  },
};

export const UploadMachine: Story = {
  args: {
    machine: createUploadMachine({ backend: {} as never }),
    title: 'Upload machine: the client orchestrator',
    active: ['uploading'],
  },
  argTypes: {
    machine: { control: false },
    active: { control: { type: 'check' }, options: [...UPLOAD_PHASES] },
  },
};
