// Creates sources through the admin API, as an operator would.
export interface CreatedSource {
  id: string;
  url: string;
  token?: string;
  secret?: string;
  instructions: string;
}

export async function createSourceViaApi(
  baseUrl: string,
  body: {
    kind: string;
    workspaceId?: string;
    channelId?: string;
    secret?: string;
    settings?: Record<string, unknown>;
    hookAccess?: { repo?: string; org?: string; hookId: number; token: string };
  },
): Promise<CreatedSource> {
  const res = await fetch(`${baseUrl}/api/sources`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ workspaceId: 'playground:local', channelId: 'playground:incidents', ...body }),
  });
  if (res.status !== 201) throw new Error(`create source: ${res.status} ${await res.text()}`);
  return (await res.json()) as CreatedSource;
}
