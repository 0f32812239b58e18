import { shared } from "../../tooling/vitest.shared.js"
export default shared
