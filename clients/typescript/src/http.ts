// How the generated functions reach the server: the base URL and the bearer token of the caller.
export const settings: { baseUrl: string; token?: string; tenant?: string } = {
  baseUrl: 'http://127.0.0.1:3000',
};

export const lecternFetch = async <T>(url: string, options: RequestInit): Promise<T> => {
  const headers = new Headers(options.headers);
  if (settings.token && !headers.has('authorization')) {
    headers.set('authorization', `Bearer ${settings.token}`);
  }
  if (settings.tenant && !headers.has('x-tenant-id')) {
    headers.set('x-tenant-id', settings.tenant);
  }
  const response = await fetch(`${settings.baseUrl}${url}`, { ...options, headers });
  const text = await response.text();
  const data = text ? JSON.parse(text) : undefined;
  return { status: response.status, data, headers: response.headers } as T;
};
