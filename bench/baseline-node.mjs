// Baseline: what a JavaScript action does. Polls every 5 s with fetch until a final status.
const { MINTLIFY_API_URL, MINTLIFY_PROJECT_ID, MINTLIFY_JOB_ID, MINTLIFY_API_KEY } = process.env;
const url = `${MINTLIFY_API_URL}/v2/agent/${MINTLIFY_PROJECT_ID}/job/${MINTLIFY_JOB_ID}`;

async function poll() {
  const answer = await fetch(url, { headers: { Authorization: `Bearer ${MINTLIFY_API_KEY}` } });
  const { status } = await answer.json();
  if (status === "completed") process.exit(0);
  if (status === "failed" || status === "archived") process.exit(1);
}

await poll();
setInterval(poll, 5000);
