import { run } from './bootstrap';

run();
