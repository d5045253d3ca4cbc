// The start-up bench's floor programs (bench/enroll_floor.ts, inventory_command_floor.ts,
// status_floor.ts) are only floors while they do the agent's job: each must print what the agent
// prints, post the enrollment it posts and save the token as it does. bench/startup_runner.ts
// checks that on every run; here it runs once on a fixture host against the bench backend, so that
// a change to the agent's output or payload that the floors do not follow fails the suite, not
// only the next `deno task bench`.
import assert from "node:assert/strict";
import { runStartupPlan, type StartupPlan, startupPlan } from "../../bench/startup.ts";
import {
  agentBundle,
  agentPlaces,
  fixtureInterfaces,
  startBenchBackend,
} from "../../bench/support.ts";
import { writeHostTree } from "../support/hosttree.ts";
import { tempDir } from "../support/tempdir.ts";

const ONE_PAIR = { pairs: 1, warmups: 1, phaseRuns: 1, budgetSeconds: 60 };

/** A fixture host of 8 interfaces, the bench backend, and the plan for them; all removed after. */
async function withPlan(use: (plan: StartupPlan) => Promise<void>): Promise<void> {
  await using dir = await tempDir();
  const { proc, sys } = await writeHostTree(dir.join("host"), fixtureInterfaces(8), {
    defaultRoute: "enp1s0",
  });
  const places = await agentPlaces(dir.join("agent"), { proc, sys });
  const agent = await agentBundle(dir.path);
  const backend = await startBenchBackend(90);
  try {
    // Outside a namespace the host has addresses, which the enrollment floor does not look up
    // (issue 24's floor): a fixed SENSOR_IP makes the payloads comparable here.
    await use(await startupPlan(places, agent, backend.url, ONE_PAIR, "SENSOR_IP=192.0.2.10\n"));
  } finally {
    await backend.close();
  }
}

Deno.test("bench startup: each floor prints, posts and saves what the agent does", async () => {
  await withPlan(async (plan) => {
    const output = await runStartupPlan(plan);
    assert.equal(output.rounds, 1);
    for (const name of ["enroll", "inventory", "status"]) {
      const times = output.commands[name];
      assert.equal(times.agentMs.length, 1, name);
      assert.ok(times.agentMs[0] > 0 && times.floorMs[0] > 0, name);
      assert.ok(output.phases[name].steps.done > 0, `${name}: the agent's timing marks`);
    }
    assert.equal(output.emptyMs.length, 1);
  });
});

Deno.test("bench startup: a floor that prints other than the agent fails the run", async () => {
  await withPlan(async (plan) => {
    const [enroll, inventory, status] = plan.commands;
    const swapped = { ...inventory, floor: status.floor, floorName: status.floorName };
    await assert.rejects(
      runStartupPlan({ ...plan, commands: [enroll, swapped] }),
      /bench\/status_floor\.ts printed other than the agent's `inventory`/,
    );
  });
});

Deno.test("bench startup: a floor that posts another enrollment fails the run", async () => {
  await withPlan(async (plan) => {
    const [enroll] = plan.commands;
    // The same floor, told another agent version: it saves the token but posts another payload.
    const other = { ...enroll, floor: [...enroll.floor.slice(0, -1), "0.0.0-other"] };
    await assert.rejects(
      runStartupPlan({ ...plan, commands: [other] }),
      /bench\/enroll_floor\.ts posted another enrollment than the agent/,
    );
  });
});
