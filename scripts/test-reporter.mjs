// A quiet reporter for node:test: prints each failure in full, a dot per passing file,
// and ends with the plain line "N passed, N failed[, N skipped]".
import { inspect } from 'node:util';

export default async function* quietReporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for await (const event of source) {
    const data = event.data;
    if (event.type === 'test:pass') {
      if (data.details?.type === 'suite') continue;
      if (data.skip || data.todo) skipped++;
      else passed++;
    } else if (event.type === 'test:fail') {
      if (data.details?.type === 'suite' && data.details?.error?.failureType === 'subtestsFailed') continue;
      failed++;
      const error = data.details?.error;
      const cause = error?.cause ?? error;
      failures.push(`✖ ${data.file ?? ''} › ${data.name}\n${indent(cause instanceof Error ? cause.stack ?? String(cause) : inspect(cause, { depth: 6 }))}`);
      yield `✖ ${data.name}\n`;
    } else if (event.type === 'test:stderr' || event.type === 'test:stdout') {
      // Tests should be quiet; surface output only when a test failed in that file.
    }
  }
  if (failures.length > 0) yield `\n${failures.join('\n\n')}\n\n`;
  yield `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}

function indent(text) {
  return String(text)
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
