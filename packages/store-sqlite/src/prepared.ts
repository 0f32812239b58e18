/**
 * Statements prepared once per connection for the store's own better-sqlite3
 * connections (the read connection, `reader.ts`; the one-call writer,
 * `index.ts`): a handful of texts compiled once, so past `MAX_PREPARED` the
 * oldest prepared one is dropped.
 */
import type Database from "better-sqlite3"

const MAX_PREPARED = 64

/** `text` prepared on `db`, from the connection's cache when it has been before. */
export const preparedOn = (db: Database.Database): ((text: string) => Database.Statement) => {
  const prepared = new Map<string, Database.Statement>()
  return (text: string) => {
    let statement = prepared.get(text)
    if (statement === undefined) {
      if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value!)
      statement = db.prepare(text)
      prepared.set(text, statement)
    }
    return statement
  }
}
