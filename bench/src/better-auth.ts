/**
 * The peer for concurrent redemption: better-auth's organization plugin accepting invitations, in this process,
 * on its own tables in a database of its own — a SQLite file through better-sqlite3, or a fresh PostgreSQL
 * database through a `pg` Pool of 10 (as Tessera's) — created by its migration API (`getMigrations`).
 *
 * Setup, untimed: `count` users and one session each are written through better-auth's internal adapter (what
 * sign-in writes, without hashing a password per user); the organization and its `count` invitations (one per
 * user's email, role `member`) go through its server API as the owner (`createOrganization`, `createInvitation`).
 * Timed: all `count` invitees call `auth.api.acceptInvitation` at once, each with their own signed session cookie,
 * so every accept resolves its session from the database as a request would. Membership and invitation limits
 * are raised so that every accept may succeed; every one must.
 */
import { betterAuth } from "better-auth"
import { makeSignature } from "better-auth/crypto"
import { getMigrations } from "better-auth/db/migration"
import { organization } from "better-auth/plugins/organization"
import Database from "better-sqlite3"
import pg from "pg"
import { drive, type Driven } from "./redeem.js"

export type PeerDatabase = { readonly sqlite: string } | { readonly pg: string }

const SECRET = "tessera-bench-better-auth-secret-0123456789abcdef"

const optionsFor = (database: Database.Database | pg.Pool) => ({
  database,
  secret: SECRET,
  baseURL: "http://localhost:3000",
  logger: { disabled: true },
  telemetry: { enabled: false },
  rateLimit: { enabled: false },
  plugins: [organization({ membershipLimit: 1_000_000, invitationLimit: 1_000_000 })]
})

/** Times `count` concurrent accepts, one per invitee, on a fresh better-auth database at `where`. */
export const betterAuthAccepts = async (where: PeerDatabase, count: number): Promise<Driven> => {
  const database = "sqlite" in where ? new Database(where.sqlite) : new pg.Pool({ connectionString: where.pg, max: 10 })
  if (database instanceof Database) database.pragma("journal_mode = WAL")
  try {
    const options = optionsFor(database)
    const { runMigrations } = await getMigrations(options)
    await runMigrations()
    const auth = betterAuth(options)
    const context = await auth.$context
    const signedIn = async (email: string) => {
      const user = await context.internalAdapter.createUser({ email, name: email, emailVerified: true }, { method: "admin" })
      const session = await context.internalAdapter.createSession(user.id, false)
      const cookie = encodeURIComponent(`${session.token}.${await makeSignature(session.token, SECRET)}`)
      return { user, headers: new Headers({ cookie: `better-auth.session_token=${cookie}` }) }
    }
    const owner = await signedIn("owner@bench.example")
    const org = await auth.api.createOrganization({ headers: owner.headers, body: { name: "redeem bench", slug: `bench-${Date.now()}` } })
    if (org === null) throw new Error("better-auth: no organization created")
    const invitees: Array<{ readonly headers: Headers; readonly invitationId: string }> = []
    for (let i = 0; i < count + 10; i++) {
      const invitee = await signedIn(`invitee-${i}@bench.example`)
      const invitation = await auth.api.createInvitation({
        headers: owner.headers,
        body: { email: invitee.user.email, role: "member", organizationId: org.id }
      })
      invitees.push({ ...invitee, invitationId: invitation.id })
    }
    const accept = (i: number) =>
      auth.api.acceptInvitation({ headers: invitees[i]!.headers, body: { invitationId: invitees[i]!.invitationId } }).then((accepted) => {
        if (accepted?.member === undefined) throw new Error(`better-auth: invitation ${i} not accepted`)
      })
    await drive(10, 1, (i) => accept(count + i)) // warm-up, untimed
    return await drive(count, count, accept)
  } finally {
    if (database instanceof Database) database.close()
    else await database.end()
  }
}
