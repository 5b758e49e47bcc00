// Express 4 is installed under the alias `express4` so both majors run in one test suite.
declare module 'express4' {
  import express from 'express'
  export default express
}
