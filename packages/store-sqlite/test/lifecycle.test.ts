// Runs the lifecycle contract (user deletion racing every writer, the deletion and minting rules, the SQL invariants) on a fresh SQLite file.
import { lifecycleContract } from "@tessera/store-contract/lifecycle"
import { probedSqliteStore } from "./fixtures/store-sql.js"

lifecycleContract("sqlite", probedSqliteStore())
