// scripts/test-titles.ts: the test titles the compliance matrix lists, template literals
// rendered from what their file says (loops, constants) or shown as «placeholders».
// The sample titles use XX_ IDs: this file's text is itself read by the compliance matrix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testTitles } from '../../scripts/test-titles.js';

/** Source text from lines (the tests below write files the way Prettier lays them out). */
const file = (...lines: string[]): string => lines.join('\n');

test('plain titles come out as written, escapes resolved', () => {
  assert.deepEqual(testTitles(file("test('XX_A_0001: a person\\'s box', () => {});", 'it("two", () => {});', 'test(`three`, () => {});')), [
    "XX_A_0001: a person's box",
    'two',
    'three',
  ]);
});

test('a title inside a for…of loop over literals gives one title per value, braced body or not, in the order of the values', () => {
  const source = file(
    "for (const backend of ['redis', 'embedded'] as const)",
    '  describe(`the window, ${backend} store`, () => {',
    '    test(`XX_PSU_5830 (${backend} store): retried once`, async () => {',
    '      await go();',
    '    });',
    '  });',
    '',
    "describe('LPS', () => {",
    "  for (const which of ['imap', 'smtp'] as const) {",
    '    test(`XX_LPS_0100: ${which} accepts TLS 1.2`, async () => {});',
    '',
    '    test(`XX_LPS_0200: ${which} refuses TLS 1.1`, async () => {});',
    '  }',
    '});',
  );
  assert.deepEqual(testTitles(source), [
    'the window, redis store',
    'the window, embedded store',
    'XX_PSU_5830 (redis store): retried once',
    'XX_PSU_5830 (embedded store): retried once',
    'LPS',
    'XX_LPS_0100: imap accepts TLS 1.2',
    'XX_LPS_0100: smtp accepts TLS 1.2',
    'XX_LPS_0200: imap refuses TLS 1.1',
    'XX_LPS_0200: smtp refuses TLS 1.1',
  ]);
});

test('constants of the file are filled in, numbers combined with + - * /; a loop over a constant array expands; nested loops multiply, a variable named twice takes one value', () => {
  const source = file(
    'const BOUND_MIB = 91;',
    'const RECIPIENTS = 200_000;',
    "const NAME: string = 'gate';",
    "const MODES = ['drop', '421'] as const;",
    'test(`XX_PSU_5010: under ${BOUND_MIB} MiB over ${RECIPIENTS / 1000},000 events (${NAME})`, () => {});',
    'for (const mode of MODES) {',
    "  for (const side of ['in', 'out']) {",
    '    test(`${side}: ${mode} (${mode})`, () => {});',
    '  }',
    '}',
  );
  assert.deepEqual(testTitles(source), [
    'XX_PSU_5010: under 91 MiB over 200,000 events (gate)',
    'in: drop (drop)',
    'out: drop (drop)',
    'in: 421 (421)',
    'out: 421 (421)',
  ]);
});

test('what only a run can tell — an environment variable, a parameter, a loop over values computed, a loop the title is not in, a name bound twice — is shown as «the expression»', () => {
  const source = file(
    'const MESSAGES = Number(process.env.N ?? 1000);',
    'const TWICE = 1;',
    'function twice() {',
    '  const TWICE = 2;',
    '}',
    'export function contract(name: string): void {',
    '  test(`${name}: XX_PSU_5840 history`, () => {});',
    '}',
    'for (const [what, target] of floods) {',
    '  test(`${what} flood`, () => {});',
    '}',
    "for (const late of ['a', 'b']) {",
    '  go(late);',
    '}',
    'test(`issue 18: ${MESSAGES} messages, ${late}, ${TWICE}, ${MESSAGES * 2}, ${ok ? "x" : "y"}`, () => {});',
  );
  assert.deepEqual(testTitles(source), [
    '«name»: XX_PSU_5840 history',
    '«what» flood',
    'issue 18: «MESSAGES» messages, «late», «TWICE», «MESSAGES * 2», «ok ? "x" : "y"»',
  ]);
});
