// Generates the fetch client of the API from the description the server is checked against.
import { defineConfig } from 'orval';

export default defineConfig({
  lectern: {
    input: { target: '../../docs/openapi.json' },
    output: {
      target: 'src/generated/lectern.ts',
      schemas: 'src/generated/model',
      client: 'fetch',
      mode: 'single',
      clean: true,
      override: {
        mutator: { path: 'src/http.ts', name: 'lecternFetch' },
      },
    },
  },
});
