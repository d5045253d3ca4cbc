// bench/empty.ts: the empty Deno program, started as the agent is (bench/startup.ts): the
// runtime's own start and exit, the part of every figure no code of the agent can remove.
