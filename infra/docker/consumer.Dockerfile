# The image of the reference pipeline's consumer services (built by `cdk deploy`, never at synth).
# Context: the repository root (see .dockerignore rules in ReferencePipelineStack).
FROM public.ecr.aws/docker/library/node:20-slim
ENV CI=true
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build
ENV NODE_ENV=production AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
USER node
