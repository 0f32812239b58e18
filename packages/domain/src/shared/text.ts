/**
 * Text as the kernel accepts it. Control characters (NUL above all) are
 * refused in every name, title and label, so both stores hold the same
 * bytes and no client can smuggle a terminator into a log line or a query.
 * Multi-line fields (`about`, `custom_instructions`) also take tab, line
 * feed and carriage return; nothing else below U+0020, nor U+007F.
 */
import { Schema } from "effect"

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/

/** One-line text of `min`–`max` characters with no control character. */
export const Line = (min: number, max: number) =>
  Schema.String.pipe(
    Schema.minLength(min),
    Schema.maxLength(max),
    Schema.filter((s) => !CONTROL.test(s) || "must not contain control characters", {
      jsonSchema: {}
    })
  )

/** Multi-line text of at most `max` characters: tab, LF and CR are the only control characters allowed. */
export const Paragraphs = (max: number) =>
  Schema.String.pipe(
    Schema.maxLength(max),
    Schema.filter((s) => !CONTROL_EXCEPT_LINES.test(s) || "must not contain control characters other than tab and line breaks", {
      jsonSchema: {}
    })
  )
