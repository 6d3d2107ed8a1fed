import { describe, expect, it } from 'vitest';
import type { TlsMaterial } from '@weir/core';
import { refusal } from './entry-gate';

const internal: TlsMaterial = { ca: '', cert: '', key: '', commonName: 'weir-internal' };
const SESSION = '/weir.v1.JobManagerService/Session';

describe('entry gate: deny by default', () => {
  it('lets TaskManager sessions in only with the cluster certificate when internal TLS is on', () => {
    expect(refusal(SESSION, { internal }, 'weir-internal', undefined)).toBeUndefined();
    expect(refusal(SESSION, { internal }, 'weir-client', undefined)).toMatch(/cluster certificate/);
    expect(refusal(SESSION, { internal }, undefined, 'Bearer t')).toMatch(/cluster certificate/);
    expect(refusal(SESSION, {}, undefined, undefined)).toBeUndefined();
  });

  it('asks every other method, known or added later, for the token', () => {
    for (const method of ['SubmitJob', 'CancelJob', 'ListJobs', 'TriggerSavepoint', 'StopJob', 'SomethingNew']) {
      const path = `/weir.v1.ClientService/${method}`;
      expect(refusal(path, { token: 't' }, undefined, undefined)).toMatch(/needs a token/);
      expect(refusal(path, { token: 't' }, 'weir-internal', 'Bearer x')).toMatch(/not valid/);
      expect(refusal(path, { token: 't' }, undefined, 'Basic t')).toMatch(/needs a token/);
      expect(refusal(path, { token: 't' }, undefined, 'Bearer t')).toBeUndefined();
      expect(refusal(path, {}, undefined, undefined)).toBeUndefined();
    }
    expect(refusal('/weir.v1.OtherService/Anything', { token: 't', internal }, 'weir-internal', undefined)).toMatch(/needs a token/);
  });
});
