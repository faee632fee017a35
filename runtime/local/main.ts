#!/usr/bin/env node
/**
 * Entry of the local bundle (`npm start`): the device entry, runtime/main.ts, with the local mode provided, so
 * `--local` runs an embedded MQTT broker and a local Firehose endpoint. The device bundle is built from
 * runtime/main.ts alone and carries neither.
 */
import { provideLocalMode } from '../local-mode-slot';
import { runLocal } from './local-mode';

provideLocalMode(runLocal);
// runtime/main.ts starts as it loads, so it is loaded only once the local mode is in place.
void import('../main');
