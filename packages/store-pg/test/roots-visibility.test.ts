// Runs the roots visibility contract (listRoots and listRootsPage decide a store page of roots at once, with the one-root rule's answers) on a fresh PostgreSQL database.
import { rootsVisibilityContract } from "@tessera/store-contract/rootsVisibility"
import { probedPgStore } from "./fixtures/store-sql.js"

rootsVisibilityContract("pg", probedPgStore())
