// Fails early, with the fix, when npm scripts do not run on Node 24 (the actions' runtime).
// The `node` dev dependency puts Node 24 first on the PATH of every npm script.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `mlops-actions needs Node 24 (the runtime of its actions); this is Node ${process.versions.node}.\n` +
      'Run the scripts through npm after `npm ci` (the `node` dev dependency provides Node 24).',
  );
  process.exit(2);
}
