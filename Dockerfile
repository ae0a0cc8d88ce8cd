# abtool in a container: `abtool` is the entrypoint, logs and policies are mounted, never baked in.
#
#   docker build -t abtool:0.1.0 .
#   docker run --rm -v "$PWD:/work:ro" abtool:0.1.0 gate examples/policy.toml
#   docker run --rm -v "$PWD:/work:ro" -p 8080:8080 abtool:0.1.0 \
#       serve examples/policy.toml --host 0.0.0.0
#
# The first stage builds abtool's wheel from the source (the .dockerignore sends only
# pyproject.toml, README.md and abtool/); the second installs that wheel and its dependencies
# into a slim Python and runs it as an unprivileged user. See docs/integrations.md.
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY abtool ./abtool
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed numeric uid, so that Kubernetes' runAsNonRoot can verify it.
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin abtool
COPY --from=wheel /wheels /wheels
RUN pip install --no-cache-dir /wheels/abtool-*.whl && rm -rf /wheels
USER 10001:10001
# Mount the policy and the log snapshots here (read-only is enough: abtool writes nothing
# unless asked to with --output/--junit/--markdown).
WORKDIR /work
EXPOSE 8080
ENTRYPOINT ["abtool"]
CMD ["--help"]
