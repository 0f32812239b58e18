// Runs the event feed contract (wake-ups on commit by polling the log's counter, `newest`, who reads which events) on a fresh SQLite file.
import { eventFeedContract } from "@tessera/store-contract/eventFeed"
import { probedSqliteStore } from "./fixtures/store-sql.js"

eventFeedContract("sqlite", probedSqliteStore())
