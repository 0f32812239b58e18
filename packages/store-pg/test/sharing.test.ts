// Runs the sharing contract (share links, revocation, the minter rule) on a fresh PostgreSQL database; racers start together, each inside its own transaction on its own pooled connection.
import { sharingContract } from "@tessera/store-contract/sharing"
import { gatedTransactor } from "./fixtures/gate.js"
import { probedPgStore } from "./fixtures/store-sql.js"

sharingContract("pg", probedPgStore({ maxConnections: 24 }), { gate: gatedTransactor })
