// Runs the doctor contract (a clean store reports nothing; each check reports exactly the rows broken by direct SQL) on a fresh PostgreSQL database.
import { doctorContract } from "@tessera/store-contract/doctor"
import { RECOMPUTE_HOPS } from "@tessera/store-sql"
import { probedPgStore } from "./fixtures/store-sql.js"

doctorContract("pg", probedPgStore(), RECOMPUTE_HOPS)
