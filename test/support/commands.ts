// Runs `/tacit …` in the playground, as a person typing it.
export async function tacitCommand(baseUrl: string, userId: string, text: string): Promise<string> {
  const res = await fetch(`${baseUrl}/playground/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, channelId: 'playground:incidents', text }),
  });
  if (res.status !== 200) throw new Error(`command ${text}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { command?: boolean; privateText?: string };
  if (!body.command) throw new Error(`${text} was not taken as a command`);
  return body.privateText ?? '';
}
