import * as tokenflight from 'tokenflight/fetch';
import flow from './flow.cjs';

await flow.run(tokenflight, 'import');
