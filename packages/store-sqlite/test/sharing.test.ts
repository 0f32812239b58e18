// Runs the sharing contract (share links, revocation, the minter rule) on a fresh SQLite file; racers are concurrent fibers that the store's write lock serialises.
import { sharingContract } from "@tessera/store-contract/sharing"
import { probedSqliteStore } from "./fixtures/store-sql.js"

sharingContract("sqlite", probedSqliteStore())
