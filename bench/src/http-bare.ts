/**
 * The bare `node:http` comparator of the HTTP workloads, run as a child process by `http.ts`: the same three
 * endpoints as Tessera's (`GET /healthz`, `GET /v1/me`, `POST /v1/check`) answered by hand through the store's
 * own driver on the same data — the API key's owner by the same statement as Tessera's key lookup, a check by
 * the one-query recursive CTE of `checks.ts`. No framework, no schema, no log: the floor a server on this driver
 * could reach. It answers the bench only and must never be taken for a server.
 *
 * Usage: `PORT=… tsx src/http-bare.ts sqlite <file>` or `PORT=… tsx src/http-bare.ts pg <url>`.
 */
import { type Action, allows, parseToken, type ResourceRole } from "@tessera/domain"
import Database from "better-sqlite3"
import { createHash } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import pg from "pg"
import { type ComparatorRow, comparatorRole, comparatorSql } from "./comparator.js"

const [store, where] = process.argv.slice(2)
const portArg = process.env["PORT"]
if (portArg === undefined || (store !== "sqlite" && store !== "pg") || where === undefined) {
  console.error("usage: PORT=… http-bare.ts sqlite <file> | pg <url>")
  process.exit(2)
}

interface Owner {
  readonly id: string
  readonly handle: string
  readonly role: string
  readonly status: string
  readonly sign_pub: string | null
  readonly kex_pub: string | null
  readonly created_at: string
  readonly revoked_at: string | null
}


/** Tessera's key lookup (`ApiKeyStore.findActiveOwner`), statement for statement. */
const ownerSql = (p: string) =>
  `SELECT k.id AS key_id, u.id, u.handle, u.role, u.status, u.sign_pub, u.kex_pub, u.created_at, u.revoked_at
   FROM api_keys k JOIN users u ON u.id = k.user_id
   WHERE k.digest = ${p} AND u.status = 'active'`

interface Queries {
  readonly owner: (digest: string) => Promise<Owner | undefined>
  readonly role: (resourceId: string, userId: string) => Promise<ResourceRole | null>
}

const sqliteQueries = (file: string): Queries => {
  const db = new Database(file)
  const owner = db.prepare<[string], Owner>(ownerSql("?"))
  const role = db.prepare<{ res: string; usr: string }, ComparatorRow>(comparatorSql("sqlite"))
  return {
    owner: async (digest) => owner.get(digest),
    role: async (res, usr) => comparatorRole(role.get({ res, usr }))
  }
}

/** A pool as large as Tessera's (10), named statements as Tessera's hot ones. */
const pgQueries = (url: string): Queries => {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  const owner = ownerSql("$1")
  const role = comparatorSql("pg")
  return {
    owner: async (digest) => (await pool.query<Owner>({ name: "bare_owner", text: owner, values: [digest] })).rows[0],
    role: async (res, usr) => comparatorRole((await pool.query<ComparatorRow>({ name: "bare_role", text: role, values: [res, usr] })).rows[0])
  }
}

const queries = store === "sqlite" ? sqliteQueries(where) : pgQueries(where)

const send = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body)
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

const caller = async (req: IncomingMessage): Promise<Owner | undefined> => {
  const header = req.headers.authorization
  if (header === undefined || !header.startsWith("Bearer ")) return undefined
  const token = parseToken("tsk", header.slice(7))
  if (token._tag === "None") return undefined
  return queries.owner(createHash("sha256").update(header.slice(7)).digest("hex"))
}

const bodyOf = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.once("error", reject)
  })

const userBody = (owner: Owner) => ({
  user: {
    id: owner.id,
    handle: owner.handle,
    role: owner.role,
    status: owner.status,
    sign_pub: owner.sign_pub,
    kex_pub: owner.kex_pub,
    created_at: owner.created_at,
    revoked_at: owner.revoked_at
  }
})

const handle = async (req: IncomingMessage, res: ServerResponse) => {
  if (req.method === "GET" && (req.url === "/healthz" || req.url?.startsWith("/healthz?"))) return send(res, 200, { status: "ok" })
  if (req.method === "GET" && req.url === "/v1/me") {
    const owner = await caller(req)
    return owner === undefined ? send(res, 401, { error: "unauthenticated" }) : send(res, 200, userBody(owner))
  }
  if (req.method === "POST" && req.url === "/v1/check") {
    const text = await bodyOf(req)
    const owner = await caller(req)
    if (owner === undefined) return send(res, 401, { error: "unauthenticated" })
    if (owner.role !== "admin") return send(res, 403, { error: "forbidden" })
    const { checks } = JSON.parse(text) as { checks: ReadonlyArray<{ user_id: string; resource_id: string; action: Action }> }
    const results = []
    for (const c of checks) {
      const role = await queries.role(c.resource_id, c.user_id)
      results.push({ allowed: allows(role, c.action), role })
    }
    return send(res, 200, { results })
  }
  send(res, 404, { error: "not_found" })
}

createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    console.error(error)
    send(res, 500, { error: "internal_error" })
  })
}).listen(Number(portArg), "127.0.0.1", () => console.log("listening"))

// an orderly exit on the bench's stop, so that `--cpu-prof` (http-profile.ts --bare) writes its profile
process.once("SIGINT", () => process.exit(0))
