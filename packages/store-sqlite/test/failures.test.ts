// Runs the all-or-nothing contract (a failing event append leaves every table as it was) on fresh SQLite files.
import { failureContract } from "@tessera/store-contract/failures"
import { probedSqliteStore } from "./fixtures/store-sql.js"

failureContract("sqlite", probedSqliteStore(), probedSqliteStore())
