// Preloaded into every Node process of a measured command (NODE_OPTIONS=--require): on exit,
// appends this process's peak RSS in kB to $RSS_PROBE_FILE.
const { appendFileSync } = require('node:fs');
process.on('exit', () => {
  if (!process.env.RSS_PROBE_FILE) return;
  appendFileSync(process.env.RSS_PROBE_FILE, `${process.pid} ${process.resourceUsage().maxRSS}\n`);
});
