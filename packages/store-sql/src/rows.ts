/** Row codecs shared by both dialects: text times, integer booleans, JSON text. */
import { Schema } from "effect"

/** An integer column: a number on SQLite, possibly a string (int8) on PostgreSQL. */
export const DbInt = Schema.Union(Schema.Int, Schema.NumberFromString.pipe(Schema.int()))

export const CountRow = Schema.Struct({ n: DbInt })
