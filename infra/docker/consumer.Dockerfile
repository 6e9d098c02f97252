# The image of the reference pipeline's consumer services (built by `cdk deploy`, never at synth).
# Context: the repository root (see .dockerignore rules in ReferencePipelineStack).
# Node.js 26, the active LTS line and the one CI runs the unit suite and the demo on besides 20 (.ci/node-lts);
# supported until April 2029, and the AWS SDK's releases from January 2027 need Node 22 or newer.
FROM public.ecr.aws/docker/library/node:26-slim
ENV CI=true
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
USER node
