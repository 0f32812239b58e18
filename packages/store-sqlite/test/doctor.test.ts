// Runs the doctor contract (a clean store reports nothing; each check reports exactly the rows broken by direct SQL) on a fresh SQLite file.
import { doctorContract } from "@tessera/store-contract/doctor"
import { RECOMPUTE_HOPS } from "@tessera/store-sql"
import { probedSqliteStore } from "./fixtures/store-sql.js"

doctorContract("sqlite", probedSqliteStore(), RECOMPUTE_HOPS)
