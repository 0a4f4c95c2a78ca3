/**
 * docker-compose.yml cannot run here (no Docker on our machines), so this checks what it promises:
 * PostgreSQL with a health check, two app replicas on DATABASE_URL that wait for it, and nginx in
 * front of both (deploy/nginx.conf). What the replicas then do is tested with real processes
 * (instances.proxy.test.ts, bench:instances).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { databaseConfigFrom } from './db/postgres';

const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: string[];
}

const compose = parse(readFileSync(root('docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

describe('docker-compose.yml', () => {
  const { services } = compose;

  it('runs PostgreSQL with a health check and a volume', () => {
    expect(services.db?.image).toMatch(/^postgres:\d+/);
    expect(services.db?.healthcheck?.test.join(' ')).toContain('pg_isready');
    expect(Object.keys(compose.volumes)).toContain('fielddx-db');
  });

  it('runs two app replicas on the PostgreSQL service, started once it is healthy', () => {
    for (const name of ['app-1', 'app-2']) {
      const app = services[name]!;
      expect(app.build).toBeDefined();
      const url = app.environment!.DATABASE_URL!.replace(
        /\$\{POSTGRES_PASSWORD[^}]*\}/,
        'password',
      );
      expect(databaseConfigFrom({ DATABASE_URL: url })).toEqual({ dialect: 'postgres', url });
      expect(new URL(url).hostname).toBe('db');
      expect(app.depends_on?.db?.condition).toBe('service_healthy');
      expect(app.environment!.TRUST_PROXY).toBe('true');
    }
    // The image's own HEALTHCHECK is what service_healthy waits for.
    expect(readFileSync(root('sync-server/Dockerfile'), 'utf8')).toMatch(/^HEALTHCHECK /m);
  });

  it('puts nginx in front of both replicas, on the one published port', () => {
    const proxy = services.proxy!;
    expect(proxy.image).toMatch(/^nginx:/);
    expect(proxy.ports).toHaveLength(1);
    expect(Object.keys(proxy.depends_on ?? {}).sort()).toEqual(['app-1', 'app-2']);
    const nginx = readFileSync(root('deploy/nginx.conf'), 'utf8');
    expect(nginx).toMatch(/server app-1:8787/);
    expect(nginx).toMatch(/server app-2:8787/);
    // A request that was sent is never replayed on the other replica (only refused connections).
    expect(nginx).toMatch(/proxy_next_upstream error;/);
  });
});
