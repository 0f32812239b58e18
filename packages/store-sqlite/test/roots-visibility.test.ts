// Runs the roots visibility contract (listRoots and listRootsPage decide a store page of roots at once, with the one-root rule's answers) on a fresh SQLite file.
import { rootsVisibilityContract } from "@tessera/store-contract/rootsVisibility"
import { probedSqliteStore } from "./fixtures/store-sql.js"

rootsVisibilityContract("sqlite", probedSqliteStore())
