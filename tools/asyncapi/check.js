#!/usr/bin/env node
// Parses AsyncAPI documents with the AsyncAPI project's own parser (@asyncapi/parser, which
// validates with its Spectral rulesets) and prints every diagnostic as one JSON line:
// {"file", "severity", "code", "message", "path"}. Exits 1 when a file has an error (severity 0)
// or does not parse into a document, 2 on bad usage. Usage: node check.js FILE...
'use strict';
const fs = require('fs');
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');

async function main(files) {
  if (files.length === 0) {
    console.error('usage: node check.js FILE...');
    return 2;
  }
  const parser = new Parser();
  let failed = false;
  for (const file of files) {
    const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'), { source: file });
    for (const d of diagnostics) {
      console.log(JSON.stringify({ file, severity: d.severity, code: d.code, message: d.message, path: d.path }));
    }
    if (document === undefined || diagnostics.some((d) => d.severity === DiagnosticSeverity.Error)) {
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  console.error(err && err.stack ? err.stack : String(err));
  process.exitCode = 1;
});
