/**
 * The page cursor of the API's lists (docs/http.md, "Paging"), made and read
 * here only: base64url of the JSON `{"l": <list>, "k": <key>}`, where `l`
 * names the list and `k` is the keyset position of the last item of the
 * page before. Clients treat it as opaque. A cursor of another list, or
 * text no page gave, is refused as one issue at `cursor`; a cursor names a
 * place in the order, never a right, so each page is decided afresh for the
 * caller and any well-formed cursor is safe to accept.
 */
import { Either, Encoding, ParseResult, Schema } from "effect"

const Envelope = Schema.parseJson(Schema.Struct({ l: Schema.String, k: Schema.Unknown }))
const decodeEnvelope = Schema.decodeUnknownEither(Envelope)
const encodeEnvelope = Schema.encodeSync(Envelope)

/**
 * The cursor of the list named `list`, whose keyset position is `key` (the
 * list's sort columns, last item of a page). Decodes to the key; encodes a
 * key into the cursor a page answers as `next_cursor`.
 */
export const ListCursor = <A, I>(list: string, key: Schema.Schema<A, I>) => {
  const decodeKey = Schema.decodeUnknownEither(key)
  const encodeKey = Schema.encodeSync(key)
  return Schema.transformOrFail(Schema.String, Schema.typeSchema(key), {
    strict: true,
    decode: (text, _, ast) => {
      const envelope = Either.flatMap(
        Either.mapLeft(Encoding.decodeBase64UrlString(text), () => undefined),
        (json) => Either.mapLeft(decodeEnvelope(json), () => undefined)
      )
      if (Either.isLeft(envelope)) return ParseResult.fail(new ParseResult.Type(ast, text, "must be the next_cursor of a previous page"))
      if (envelope.right.l !== list) {
        return ParseResult.fail(new ParseResult.Type(ast, text, `must be the next_cursor of a previous page of this list (not of ${JSON.stringify(envelope.right.l.slice(0, 32))})`))
      }
      const decoded = decodeKey(envelope.right.k)
      return Either.isRight(decoded)
        ? ParseResult.succeed(decoded.right)
        : ParseResult.fail(new ParseResult.Type(ast, text, "must be the next_cursor of a previous page"))
    },
    encode: (k) => ParseResult.succeed(Encoding.encodeBase64Url(encodeEnvelope({ l: list, k: encodeKey(k) })))
  }).annotations({
    identifier: `${list[0]!.toUpperCase()}${list.slice(1)}Cursor`,
    jsonSchema: {
      type: "string",
      description: `An opaque cursor of this list (${list}): a previous page's \`next_cursor\`, passed back as it came.`
    }
  })
}
