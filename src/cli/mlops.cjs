#!/usr/bin/env node
// The `mlops` command: checks the Node.js version, then loads the CLI bundle (index.js next to this
// file, an ES module built for Node 20). scripts/build.js copies this file to dist/cli/mlops.cjs
// unchanged; package.json's "bin" points here.
//
// Kept to syntax every Node.js release parses (ES5 and CommonJS: no `import` keyword, no trailing
// commas in calls, which is why each call fits on one line and the formatter leaves it), so
// that an old Node prints which version is needed and exits 2 instead of failing with a SyntaxError
// on the bundle's newer syntax or on a built-in export it lacks.
//
// The minimum is 20.16 on the 20 line (process.getBuiltinModule, used by the file-hashing worker)
// and 22.3 on the 22 line; keep it in step with "engines" in packages/mlops-actions/package.json.
/* biome-ignore-all lint/complexity/useArrowFunction: ES5 on purpose, see above */
/* biome-ignore-all lint/suspicious/noVar: ES5 on purpose, see above */
/* biome-ignore-all lint/style/useNodejsImportProtocol: `node:` specifiers need Node 14.18+ */
/* biome-ignore-all lint/complexity/useOptionalChain: ES5 on purpose, see above */
'use strict';

var version = process.versions.node;
var parts = version.split('.');
var major = Number(parts[0]);
var minor = Number(parts[1]);
var supported = major > 22 || (major === 22 && minor >= 3) || (major === 20 && minor >= 16);
var needed = 'mlops needs Node.js 20.16 or newer (20.16+, 22.3+ or 24 and later); this is Node.js ';

if (!supported) {
  process.stderr.write(needed + version + ' (' + process.execPath + ').\n');
  process.stderr.write('Install a current Node.js LTS release and run mlops with it.\n');
  process.exit(2);
}

var path = require('path');
var url = require('url');
var entry = path.join(__dirname, 'index.js');
// `import()` through Function: a literal one would be a SyntaxError where Node predates it.
var load = new Function('specifier', 'return import(specifier)');
load(url.pathToFileURL(entry).href).catch(function (error) {
  var detail = error && error.stack ? error.stack : String(error);
  process.stderr.write('internal error (not a validation result; please report it): mlops could not load ');
  process.stderr.write(entry + ': ' + detail + '\n');
  process.exit(3);
});
