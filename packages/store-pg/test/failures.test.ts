// Runs the all-or-nothing contract (a failing event append leaves every table as it was) on fresh PostgreSQL databases.
import { failureContract } from "@tessera/store-contract/failures"
import { probedPgStore } from "./fixtures/store-sql.js"

failureContract("pg", probedPgStore(), probedPgStore())
