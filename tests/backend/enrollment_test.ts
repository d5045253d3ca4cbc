// tests/backend/enrollment_test.ts: the pure half of the enrollment exchange (docs/protocol.md;
// docs/configuration.md, Exit codes): the payload, the Idempotency-Key, the interval, and what each
// kind of reply means.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  enrollmentPayload,
  idempotencyKey,
  judgeEnrollmentReply,
  validInterval,
} from "../../lib/backend/enrollment.ts";
import { AgentError } from "../../lib/errors.ts";
import { SEED_PAYLOAD } from "../support/seed.ts";

const URL_TEXT = "https://backend.example/ravenx";

const SEED_FACTS = {
  hostname: "sensor-ubuntu-host",
  osInfo: "Ubuntu 24.04 LTS",
  architecture: "x86_64",
};

/** A sensor token in the contract's charset that no error message could contain by chance. */
const TOKEN = "durable-Token_0123456789.+/=";

/** A successful reply body, with `data` fields replaced or added. */
function replyBody(data: Record<string, unknown> = {}): string {
  return JSON.stringify({
    success: true,
    data: {
      sensorId: "7f0c2f4e-0000-4000-8000-000000000001",
      sensorToken: TOKEN,
      backendUrl: "http://10.10.10.70:5009",
      heartbeatIntervalSeconds: 30,
      ...data,
    },
  });
}

/**
 * The AgentError judgeEnrollmentReply throws, checked for its exit code and for never quoting the
 * reply: neither the body nor the token may reach a message or the advice (docs/protocol.md,
 * Secrets).
 */
function judgedFailure(status: number, text: string | undefined, exitCode: number): AgentError {
  try {
    judgeEnrollmentReply(status, text, URL_TEXT);
  } catch (error) {
    assert.ok(error instanceof AgentError, `not an AgentError: ${error}`);
    assert.equal(error.exitCode, exitCode, error.message);
    const printed = `${error.message} ${error.advice}`;
    assert.ok(!printed.includes(TOKEN), `the token leaked: ${printed}`);
    // A body of a few characters ("true", "42") could match ordinary words; longer ones cannot.
    if (text !== undefined && text.length >= 8) {
      assert.ok(!printed.includes(text), `the body leaked: ${printed}`);
    }
    return error;
  }
  assert.fail(`HTTP ${status} was judged a success`);
}

// --- enrollmentPayload

Deno.test("payload: the seed's nine fields, in its order, with its JSON types", () => {
  const payload = enrollmentPayload(
    SEED_PAYLOAD.installToken,
    SEED_FACTS,
    SEED_PAYLOAD.sensorIp,
    SEED_PAYLOAD.sensorPort,
    structuredClone(SEED_PAYLOAD.interfaces),
  );
  // Byte-equal JSON proves names, order, values and JSON types at once.
  assert.equal(JSON.stringify(payload), JSON.stringify(SEED_PAYLOAD));
});

Deno.test("payload: agentVersion and sudoUser are the constants 2.0.0 and sensoradmin", () => {
  const payload = enrollmentPayload(
    "t",
    { hostname: "h", osInfo: "o", architecture: "arm64" },
    "10.0.0.1",
    2222,
    [],
  );
  assert.equal(payload.agentVersion, "2.0.0");
  assert.equal(payload.sudoUser, "sensoradmin");
  assert.equal(payload.sensorPort, 2222);
  assert.equal(payload.architecture, "arm64");
});

Deno.test("payload: an undetected sensorIp is still a string, as in the seed", () => {
  const payload = enrollmentPayload("t", SEED_FACTS, undefined, 22, []);
  assert.equal(typeof payload.sensorIp, "string");
  assert.deepEqual(Object.keys(payload), Object.keys(SEED_PAYLOAD));
});

// --- idempotencyKey

/** HMAC-SHA-256 in lowercase hex by node:crypto: an implementation apart from the agent's. */
function hmacHex(key: string, message: string): string {
  return createHmac("sha256", key).update(message).digest("hex");
}

Deno.test("idempotency: RFC 4231 test case 2 (key Jefe)", () => {
  assert.equal(
    idempotencyKey("Jefe", "what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  );
});

Deno.test("idempotency: HMAC-SHA-256 of the machine id keyed by the install token", async () => {
  const installToken = "install-5f0e1c3a-token";
  const machineId = "0123456789abcdef0123456789abcdef";
  assert.equal(
    idempotencyKey(installToken, machineId),
    await hmacHex(installToken, machineId),
  );
});

Deno.test("idempotency: the key is 64 lowercase hex digits", () => {
  assert.match(idempotencyKey("INSTALL-TOKEN", "MACHINE-ID"), /^[0-9a-f]{64}$/);
});

Deno.test("idempotency: the same machine and token give the same key, another machine another", () => {
  const key = idempotencyKey("install-token", "machine-a");
  assert.equal(idempotencyKey("install-token", "machine-a"), key);
  assert.notEqual(idempotencyKey("install-token", "machine-b"), key);
  assert.notEqual(idempotencyKey("other-token", "machine-a"), key);
});

Deno.test("idempotency: the key reveals neither the token nor the machine id", () => {
  const key = idempotencyKey("install-token", "machine-a");
  assert.ok(!key.includes("install-token") && !key.includes("machine-a"));
});

// --- validInterval

Deno.test("interval: an integer from 1 to 86400 is used as it is", () => {
  for (const seconds of [1, 30, 3600, 86400]) assert.equal(validInterval(seconds), seconds);
});

Deno.test("interval: an integer above 86400 is capped at 86400", () => {
  assert.equal(validInterval(86401), 86400);
  assert.equal(validInterval(1e21), 86400);
});

Deno.test("interval: missing, zero, negative, fractional, textual or non-finite is invalid", () => {
  for (const value of [undefined, null, 0, -0, -1, 1.5, 0.5, "30", true, NaN, Infinity, [30], {}]) {
    assert.equal(validInterval(value), undefined, String(value));
  }
});

// --- judgeEnrollmentReply: success

Deno.test("judge: 200 with success, a token and an interval is an enrollment", () => {
  assert.deepEqual(
    judgeEnrollmentReply(200, replyBody({ heartbeatIntervalSeconds: 45 }), URL_TEXT),
    {
      sensorToken: TOKEN,
      heartbeatIntervalSeconds: 45,
      sensorId: "7f0c2f4e-0000-4000-8000-000000000001",
      backendUrl: "http://10.10.10.70:5009",
      intervalWarning: undefined,
    },
  );
});

Deno.test("judge: a 201 Created is as much a success as a 200", () => {
  assert.equal(judgeEnrollmentReply(201, replyBody(), URL_TEXT).sensorToken, TOKEN);
});

Deno.test("judge: any 2xx is a success", () => {
  for (const status of [202, 299]) {
    assert.equal(judgeEnrollmentReply(status, replyBody(), URL_TEXT).sensorToken, TOKEN);
  }
});

Deno.test("judge: sensorId and backendUrl are kept only when they are strings", () => {
  const enrollment = judgeEnrollmentReply(
    200,
    replyBody({ sensorId: 7, backendUrl: null }),
    URL_TEXT,
  );
  assert.equal(enrollment.sensorId, undefined);
  assert.equal(enrollment.backendUrl, undefined);
});

// --- judgeEnrollmentReply: status classes

for (const status of [401, 403]) {
  Deno.test(`judge: ${status} means the install token was rejected (77)`, () => {
    const error = judgedFailure(status, JSON.stringify({ success: false, token: TOKEN }), 77);
    assert.match(error.message, new RegExp(`rejected the install token \\(HTTP ${status}\\)`));
  });
}

for (const status of [300, 301, 302, 303, 304, 307, 308]) {
  Deno.test(`judge: a ${status} is a failure (76), never followed`, () => {
    const error = judgedFailure(status, replyBody(), 76);
    assert.match(error.message, new RegExp(`redirect \\(HTTP ${status}\\)`));
  });
}

for (const status of [400, 404, 409, 429]) {
  Deno.test(`judge: a ${status} is a failed enrollment (76)`, () => {
    const error = judgedFailure(status, `{"success":false,"message":"echo ${TOKEN}"}`, 76);
    assert.match(error.message, new RegExp(`HTTP ${status}`));
  });
}

for (const status of [500, 502, 503]) {
  Deno.test(`judge: a ${status} is a failed enrollment (76)`, () => {
    const error = judgedFailure(status, `<html>upstream error near ${TOKEN}</html>`, 76);
    assert.match(error.message, new RegExp(`HTTP ${status}`));
  });
}

Deno.test("judge: a status below 200 is not 2xx: a failure (76) whatever the body says", () => {
  // fetch never hands a 1xx over as a final reply; the rule is still "2xx or failure".
  assert.match(judgedFailure(199, replyBody(), 76).message, /HTTP 199/);
});

Deno.test("judge: the messages name the URL the agent called", () => {
  assert.ok(judgedFailure(500, "", 76).message.includes(URL_TEXT));
});

// --- judgeEnrollmentReply: bodies

Deno.test("judge: a reply over 1 MiB (text undefined) is a failure (76)", () => {
  assert.match(judgedFailure(200, undefined, 76).message, /larger than 1 MiB/);
});

Deno.test("judge: a body that is not JSON is a failure (76) that does not quote it", () => {
  const body = `<html>sensorToken=${TOKEN}</html>`;
  assert.match(judgedFailure(200, body, 76).message, /not JSON/);
});

Deno.test("judge: an empty body is not JSON (76)", () => {
  assert.match(judgedFailure(200, "", 76).message, /not JSON/);
});

for (
  const body of [
    "[]",
    `[{"success":true,"data":{"sensorToken":"${TOKEN}"}}]`,
    "null",
    "42",
    '"success"',
    "true",
  ]
) {
  Deno.test(`judge: JSON that is not an object (${body.slice(0, 12)}) is a failure (76)`, () => {
    judgedFailure(200, body, 76);
  });
}

for (const success of [false, "true", 1, null]) {
  Deno.test(`judge: success ${JSON.stringify(success)} instead of true is a failure (76)`, () => {
    const body = JSON.stringify({
      success,
      data: { sensorToken: TOKEN, heartbeatIntervalSeconds: 30 },
    });
    assert.match(judgedFailure(200, body, 76).message, /success: true/);
  });
}

Deno.test("judge: success missing is a failure (76)", () => {
  judgedFailure(200, JSON.stringify({ data: { sensorToken: TOKEN } }), 76);
});

Deno.test("judge: data missing is a failure (76): no token", () => {
  assert.match(judgedFailure(200, '{"success":true}', 76).message, /token.*missing or malformed/);
});

// --- judgeEnrollmentReply: the sensor token

/** [what, token] for tokens that must be refused. */
const badTokens: [string, unknown][] = [
  ["missing", undefined],
  ["a number", 12345678],
  ["an array", [TOKEN]],
  ["null", null],
  ["7 characters", "a".repeat(7)],
  ["4097 characters", "a".repeat(4097)],
  ["the empty string", ""],
  ["with a space", "abcd efgh"],
  ["with a newline", "abcdefgh\nINSTALL_TOKEN=x"],
  ["with a trailing newline", "abcdefgh\n"],
  ["with a quote", 'abcd"efgh'],
  ["with a #", "abcd#efgh"],
  ["with a $", "abcd$efgh"],
  ["with a non-ASCII letter", "abcdéfgh"],
];
for (const [what, token] of badTokens) {
  Deno.test(`judge: a sensor token ${what} is a failure (76)`, () => {
    // JSON.stringify leaves an undefined sensorToken out: the "missing" case.
    const error = judgedFailure(200, replyBody({ sensorToken: token }), 76);
    assert.match(error.message, /token.*missing or malformed/);
    if (typeof token === "string" && token.length > 0) {
      assert.ok(!error.message.includes(token), "the malformed token is not quoted");
    }
  });
}

Deno.test("judge: a sensor token of exactly 8 characters is accepted", () => {
  const token = "abcdefgh";
  assert.equal(
    judgeEnrollmentReply(200, replyBody({ sensorToken: token }), URL_TEXT).sensorToken,
    token,
  );
});

Deno.test("judge: a sensor token of exactly 4096 characters is accepted", () => {
  const token = "A".repeat(4096);
  assert.equal(
    judgeEnrollmentReply(200, replyBody({ sensorToken: token }), URL_TEXT).sensorToken,
    token,
  );
});

Deno.test("judge: every character of A-Z a-z 0-9 . _ + / = - is allowed in a token", () => {
  const token = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+/=-";
  assert.equal(
    judgeEnrollmentReply(200, replyBody({ sensorToken: token }), URL_TEXT).sensorToken,
    token,
  );
});

// --- judgeEnrollmentReply: the interval

/** [what, value in the reply] for intervals that fall back to 30 s with a warning. */
const badIntervals: [string, unknown][] = [
  ["missing", undefined],
  ["0", 0],
  ["-1", -1],
  ["1.5", 1.5],
  ['"30" (a string)', "30"],
  ["null", null],
];
for (const [what, value] of badIntervals) {
  Deno.test(`judge: an interval ${what} becomes 30 s with a warning, and the token is kept`, () => {
    const enrollment = judgeEnrollmentReply(
      200,
      replyBody({ heartbeatIntervalSeconds: value }),
      URL_TEXT,
    );
    assert.equal(enrollment.sensorToken, TOKEN);
    assert.equal(enrollment.heartbeatIntervalSeconds, 30);
    assert.match(enrollment.intervalWarning ?? "", /heartbeatIntervalSeconds.*30 s/);
  });
}

Deno.test("judge: an interval of 86401 is capped at 86400 without a warning", () => {
  const enrollment = judgeEnrollmentReply(
    200,
    replyBody({ heartbeatIntervalSeconds: 86401 }),
    URL_TEXT,
  );
  assert.equal(enrollment.heartbeatIntervalSeconds, 86400);
  assert.equal(enrollment.intervalWarning, undefined);
});

Deno.test("judge: a valid interval is used without a warning", () => {
  const enrollment = judgeEnrollmentReply(
    200,
    replyBody({ heartbeatIntervalSeconds: 1 }),
    URL_TEXT,
  );
  assert.equal(enrollment.heartbeatIntervalSeconds, 1);
  assert.equal(enrollment.intervalWarning, undefined);
});
