// Runs the lifecycle contract (user deletion racing every writer on pooled connections, the deletion and minting rules, the SQL invariants) on a fresh PostgreSQL database.
import { lifecycleContract } from "@tessera/store-contract/lifecycle"
import { probedPgStore } from "./fixtures/store-sql.js"

lifecycleContract("pg", probedPgStore())
