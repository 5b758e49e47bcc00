// Older majors are installed under aliases (express4, koa2) so both majors run in one suite.
declare module 'express4' {
  import express from 'express'
  export default express
}

// Koa 2 is installed under the alias `koa2` beside Koa 3.
declare module 'koa2' {
  import Koa from 'koa'
  export default Koa
}
