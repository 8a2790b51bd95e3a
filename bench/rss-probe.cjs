// Preloaded into every Node process of a measured command (NODE_OPTIONS=--require): keeps this
// process's peak RSS in kB in `$RSS_PROBE_FILE.<pid>`, rewritten every 100 ms and on exit, so a
// process that is killed rather than exiting (a test runner's worker) still leaves its peak.
const { writeFileSync } = require('node:fs');
const target = process.env.RSS_PROBE_FILE;
if (target) {
  const record = () => {
    try {
      writeFileSync(`${target}.${process.pid}`, `${process.pid} ${process.resourceUsage().maxRSS}\n`);
    } catch {
      // the directory is gone: the measurement is over
    }
  };
  setInterval(record, 100).unref();
  process.on('exit', record);
}
